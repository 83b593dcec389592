"""A local stand-in for Twilio: plays Twilio's part in voice calls and serves a fake REST API.

Used by tests, scenarios and the demo so whole calls run without a network or a Twilio account.
Never enabled in production configuration.
"""
