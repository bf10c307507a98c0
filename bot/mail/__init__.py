"""E-mail: LearnLoop's messages laid out as plain text and HTML, sent through SMTP.

`render.py` lays out the same neutral `Message`s the chat platforms post (words once);
`smtp.py` is the `Mailer` port's SMTP side; `signin.py` is the one-time sign-in e-mail the
Learning Board sends.
"""
