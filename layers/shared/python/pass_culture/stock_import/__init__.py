"""The daily stock import from bookshops' stock software, and the direct push (domain.md, "Stock import")."""
