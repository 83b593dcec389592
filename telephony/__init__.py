"""The Twilio boundary: the REST gateway, webhook signature checks and TwiML responses."""
