"""Local stand-ins for the outside services Kairos talks to, each speaking the real wire format.

Each one runs an HTTP server in a thread on 127.0.0.1 and a free port, records what it accepted,
and can be told to fail, so tests exercise the app's real client code end to end:

* ``push_service.PushService``: a Web Push service (RFC 8030, RFC 8291 aes128gcm, RFC 8292 VAPID).
* ``twilio.TwilioStandIn``: Twilio's Programmable Messaging "create a Message" endpoint.
* ``google_calendar.GoogleCalendar``: Google Calendar API v3 events and Google's OAuth 2 server.
* ``ms_graph.MsGraph``: Microsoft Graph calendar events, delta, and Microsoft's OAuth 2 server.
"""
