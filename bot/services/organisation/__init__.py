"""The organisation and who is who in it: the node tree and its bound chats, node names, the role
ladder and what each rung may do, granting roles, and users and chats with their language."""
