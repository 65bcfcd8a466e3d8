"""The Telegram adapter: its handlers, renderers, keyboards and callback codecs, its
transport, rate limits, inbox and webhook; `app.build_application` wires it to the core."""
