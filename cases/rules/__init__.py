"""The city's rules for the case core: dispatch rules and each category's live rules."""
