"""Offers and stocks: CRUD for pros, the book catalogue, search around a point (issue #4).

models.py   stored and answered shapes    rules.py      pure rules (subcategory fit, books, stocks, status)
catalogue.py  the CSV of books             repository.py the only code that knows their keys
service.py  the use cases                 images.py     presigned uploads of offer images
"""
