"""The voice menu: flow definitions, the flow engine, and the Twilio voice webhooks that render it."""
