"""The web channel: the Chainlit app (app.py), one chat session per browser tab
(session.py), our data layer for history (data.py), branding (brand.py) and logins (auth.py)."""
