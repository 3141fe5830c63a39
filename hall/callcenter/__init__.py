"""The seat desk: complaint and consultation cases (工单) from phone, WeChat, email and the web."""
