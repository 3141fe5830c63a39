"""The email channel: the complaint mailbox polled over IMAP, replies sent over SMTP.

`decode` turns a raw message into a `ParsedMail`, `threading` finds the case a
reply belongs to, `imap` polls the mailbox, `smtp` sends the agents' replies.
"""
