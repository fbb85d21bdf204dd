"""SQLModel tables and the engine. Only activities and the API import this package."""
