"""VBA source of the Excel buttons, shipped as package data."""
