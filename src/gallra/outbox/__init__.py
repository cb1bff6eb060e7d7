"""The outbox: every mail gallra sends on behalf of a web request waits here, sealed, and is
delivered after the answer by `gallra serve`'s mail thread or `gallra outbox send` (cron).
See docs/mail.md."""
