"""tpmt: thiopurine dosing from TPMT and NUDT15 results."""
