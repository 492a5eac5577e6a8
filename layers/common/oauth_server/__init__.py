"""The shared package of the authorization server: domain, storage, protocol, sessions."""
