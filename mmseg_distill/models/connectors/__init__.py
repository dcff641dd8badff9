from .ka_autoencoder import KAAutoEncoderConnector

__all__ = ['KAAutoEncoderConnector']
