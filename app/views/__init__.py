"""The window's parts: actions, toolbar, menus, video area, side panels, status bar, help."""
