"""Exchange between platforms: the feed this instance publishes, what it takes from others."""
