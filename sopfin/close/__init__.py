"""The monthly close: reconcile, publish a locked version on the ledger, verify and diff."""
