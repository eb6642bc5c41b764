"""Finance: the double-entry ledger, invoices with gapless numbers, payments."""
