"""The web pages' part of the domain: who a browser is (sign-in codes, sessions) and what a
signed-in person may read and do on a topic's page, through the same services as the chat."""
