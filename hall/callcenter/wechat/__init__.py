"""The WeChat official account (公众号) as a case channel.

WeChat posts each citizen message to `POST /wechat`, signed with the token the
hall set in the account's server configuration and, in safe mode, encrypted
with its EncodingAESKey. The hall checks, decrypts and parses it, hands it to
the case core, and answers within WeChat's 5 seconds. Agents' replies go back
as customer-service messages (客服消息) through the outbox.
"""
