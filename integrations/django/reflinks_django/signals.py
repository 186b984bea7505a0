from django.dispatch import Signal

#: Sent once for each verified webhook delivery, with keyword arguments ``event_type``
#: (``"referral.confirmed"``...), ``data`` (the object as the API returns it), ``webhook_id``
#: (the same on every retry of one event: dedupe on it) and ``payload`` (the whole body).
#: A receiver that raises makes the view answer 500, so reflinks retries the delivery later.
webhook_received = Signal()
