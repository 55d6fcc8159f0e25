/// Pre-trade risk: checks as pure functions of (intent, state, limits); kill switch and halts.
