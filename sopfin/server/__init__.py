"""``sopfin serve``: the plan workbooks of one folder over HTTP, for the ERP, BI and planning
portals. The same engine and the same issue codes as the CLI; writes go through the same
locked, atomic writer and land on the ledger with the token's name as author."""
