"""Deferred Diffusion digital assets for Houdini's Copernicus: DDImage, DDText and DDVideo.

The assets hold only parameters and callback scripts; their behaviour lives
in `dd_houdini.tasks`, so it can be tested without Houdini.
"""
