"""Everything that decides what the user sees: the score floor, the quarantine of text that addresses the
model, the citations, the claim checks (`claims/`) and the verdict that puts them together (`verify`)."""
