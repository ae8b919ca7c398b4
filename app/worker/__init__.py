"""The worker side: the frame worker on its QThread, its host, and the Qt-free parts it uses
(capture, clock, pipeline owner, images, snapshots, messages)."""
