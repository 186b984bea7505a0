"""reflinks for Django: the signed login header, an API client, a webhook view, the report.

Settings: ``REFLINKS_URL`` (the public site, where the worker answers ``/_reflinks``),
``REFLINKS_API_TOKEN`` (the worker's ``API_TOKEN``) and, for the webhook view,
``REFLINKS_WEBHOOK_SECRET`` (the ``whsec_...`` secret ``POST /_reflinks/webhooks`` answered).
"""
