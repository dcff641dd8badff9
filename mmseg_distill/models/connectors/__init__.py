from .ka_autoencoder import KAAutoEncoderConnector
from .pixels_as_samples import PixelsAsSamplesConnector

__all__ = ['KAAutoEncoderConnector', 'PixelsAsSamplesConnector']
