"""Reports: tables and plots drawn from saved records (JSON), never from live models."""
