"""The application: running jobs (runner), the channel-agnostic conversation and its event
contract (events), identities and workspaces. Channels and the API talk to this package,
never to the graph."""
