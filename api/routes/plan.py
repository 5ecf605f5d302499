from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

import solver

from .. import examples
from ..errors import BODY, BUSY, invalid
from ..pool import pool
from ..settings import settings

router = APIRouter(prefix="/v1/plan", tags=["plan"])

ERRORS = {**BODY, **invalid("A malformed plan, or domains past the limits"), **BUSY}


@router.post("/unet", response_model=solver.PlanResponse, responses=ERRORS)
async def unet(body: Annotated[solver.UNetPlan, Body(openapi_examples=examples.UNET)],
               request: Request) -> solver.PlanResponse:
    """U-Net designs (depth, conv style, pooling or strided convs, up-convolutions or
    upsampling, matched or cropped skips), ranked, with the size at every level."""
    return await pool.run(solver.plan_unet, body, max_time_s=settings.budget(body),
                          disconnected=request.is_disconnected)


@router.post("/aspp", response_model=solver.PlanResponse, responses=ERRORS)
async def aspp(body: Annotated[solver.ASPPPlan, Body(openapi_examples=examples.ASPP)],
               request: Request) -> solver.PlanResponse:
    """DeepLab ASPP branches that keep the bottleneck size, with the padding each rate
    needs, and a warning when a rate only lets the centre tap see the map."""
    return await pool.run(solver.plan_aspp, body, max_time_s=settings.budget(body),
                          disconnected=request.is_disconnected)


@router.post("/encoder-decoder", response_model=solver.PlanResponse, responses=ERRORS)
# The planner's first name, kept for clients that use it.
@router.post("/autoencoder", response_model=solver.PlanResponse, responses=ERRORS, deprecated=True,
             summary="Encoder Decoder (old name)")
async def encoder_decoder(body: Annotated[solver.EncoderDecoderPlan, Body(openapi_examples=examples.ENCODER_DECODER)],
                          request: Request) -> solver.PlanResponse:
    """An encoder-decoder: an autoencoder round trip (image -> latent -> image), a GAN
    generator (1x1 noise -> image) or discriminator (image -> 1x1), with output_padding
    chosen where needed."""
    return await pool.run(solver.plan_encoder_decoder, body, max_time_s=settings.budget(body),
                          disconnected=request.is_disconnected)
