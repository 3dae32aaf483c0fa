"""The "acme" API: a made-up declarative-REST jobs API, served by ``routes``."""
