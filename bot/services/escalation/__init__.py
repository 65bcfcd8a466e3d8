"""Escalation (上报): an unresolved matter sent up 楼栋 → 网格 → 社区 with an SLA, one hop or a
sweep's thousands at a time; the receiving node's card and the matter's history."""
