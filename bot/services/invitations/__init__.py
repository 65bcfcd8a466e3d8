"""Household invitations (/invite, /revoke): one-time codes that bring a household with no bot
(a personal-WeChat group) onto the web page; the QR codes and the printable sheet."""
