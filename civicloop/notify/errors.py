"""How a delivery attempt can fail. The outbox retries the first and dead-letters the second."""


class DeliveryError(Exception):
    """Base class of delivery failures."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying: timeout, connection refused, 5xx, throttled by the provider."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: bad template, invalid phone, rejected signature, 4xx."""
