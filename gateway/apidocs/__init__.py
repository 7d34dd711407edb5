"""The published API specifications and the interactive docs.

:mod:`.documents` lists the documents and renders them; :mod:`.aisp` generates the Account
Information document from the reference file, the routes we serve and the marshmallow schemas
that validate requests; :mod:`.oauth` keeps the authorization server's document; :mod:`.views`
serves the committed files and Swagger UI; :mod:`.cli` is ``gateway specs write|check``.
"""
