"""Residents registering their household (``/register 2-502 89.5``) and officers approving or
rejecting it where the node requires approval."""
