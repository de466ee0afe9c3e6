"""Word report templates (docxtpl), shipped as package data."""
