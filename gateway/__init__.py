"""The MCP gateway: agents reach upstream MCP servers' tools through Regent, every call governed."""
