/// Host inspection for `tickline tune`.
