"""Chat channels: shared slash commands (commands.py), the web app (web/, Chainlit), and the
Discord and Telegram bots. A channel talks to :mod:`assistant.app` (the conversation and its
event contract, :mod:`assistant.app.events`), never to the graph."""
