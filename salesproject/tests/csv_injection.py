"""Ids that a spreadsheet would run as formulae, and what every CSV we write must hold instead."""

FORMULA_IDS = ["=1+1", "==1+1", "+cmd|' /C calc'!A0", "-1+2", "@SUM(1)", "\tx", "\rx"]
# OWASP's treatment: a leading "'", the value itself unchanged.
ESCAPED = {value: "'" + value for value in FORMULA_IDS}
