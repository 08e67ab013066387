package preset

import "github.com/hookguard/hookguard/scheme"

func init() {
	register(
		Entry{
			Name: "github", Sender: "GitHub", Family: "git hosting",
			Docs:   "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
			Signed: "HMAC-SHA256 of the body, hex, after sha256= (legacy_sha1: the SHA-1 header too)",
			Build: func(o Options) *scheme.Scheme {
				s := &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Hub-Signature-256", ID: "X-GitHub-Delivery"}},
					Format:     scheme.Single{Prefix: "sha256="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
				if o.LegacySHA1 {
					s.Fallback = &scheme.Scheme{
						Name:       "github",
						HeaderSets: []scheme.Headers{{Signature: "X-Hub-Signature", ID: "X-GitHub-Delivery"}},
						Format:     scheme.Single{Prefix: "sha1="},
						Algorithm:  scheme.HMACSHA1, Encoding: scheme.Hex,
					}
				}
				return s
			},
		},
		Entry{
			Name: "gitlab", Sender: "GitLab", Family: "git hosting",
			Docs:   "https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token",
			Signed: "nothing: the secret token itself, in X-Gitlab-Token",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Gitlab-Token", ID: "X-Gitlab-Event-UUID"}},
					Format:     scheme.Token{}, Algorithm: scheme.Compare{},
				}
			},
		},
		Entry{
			Name: "bitbucket", Sender: "Bitbucket Cloud", Family: "git hosting",
			Docs:   "https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks",
			Signed: "HMAC-SHA256 of the body, hex, after sha256=",
			Build: func(Options) *scheme.Scheme {
				return &scheme.Scheme{
					HeaderSets: []scheme.Headers{{Signature: "X-Hub-Signature", ID: "X-Request-UUID"}},
					Format:     scheme.Single{Prefix: "sha256="},
					Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				}
			},
		},
	)
}
