"""Citizens' personal data over time: retention (anonymising old records) and the audit of reads."""
