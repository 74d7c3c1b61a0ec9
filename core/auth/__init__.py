"""People and permissions: staff accounts, citizens, bearer tokens, role guards."""
