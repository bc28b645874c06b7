"""Exchange between platforms: signed feed pages, pulling partners, importing lists."""
