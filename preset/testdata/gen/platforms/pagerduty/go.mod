module hookguard.test/gen/pagerduty

go 1.22

require github.com/PagerDuty/go-pagerduty v1.8.0
