"""The LangGraph pipeline: typed state, nodes, and the graph that routes them."""
