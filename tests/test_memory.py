"""Tests for colorlib.memory: the parameter count, the training estimate and the largest size that fits."""
from dataclasses import replace

import torch

from colorlib.memory import available_memory, largest_fitting, parameter_count, training_bytes
from colorlib.models import ModelConfig, build_model


def test_parameter_count_is_the_models_without_building_it():
    for config in (ModelConfig('UNet', 3, 32, 24), ModelConfig('CNN', 5, 8, 24), ModelConfig('RegressionCNN', 3, 4, 3)):
        assert parameter_count(config) == sum(p.numel() for p in build_model(config).parameters())


def test_training_bytes_grow_with_the_batch_and_the_image_area():
    config = ModelConfig('UNet', 3, 32, 24)
    base = training_bytes(config, 100)
    weights = 16 * parameter_count(config)
    assert training_bytes(config, 200) - weights == 2 * (base - weights)
    assert training_bytes(config, 100, side=96) - weights == 9 * (base - weights)


def test_largest_fitting_is_the_edge_of_what_fits():
    config = ModelConfig('UNet', 3, 32, 24)
    memory = training_bytes(replace(config, filters=300), 100) + 1
    filters = largest_fitting(config, 'filters', 100, memory)
    assert filters == 300 or (training_bytes(replace(config, filters=filters), 100) <= memory
                              < training_bytes(replace(config, filters=filters + 1), 100))
    kernel = largest_fitting(config, 'kernel', 100, training_bytes(replace(config, kernel=9), 100))
    assert kernel == 9  # odd sizes only
    assert largest_fitting(config, 'filters', 100, 10) is None  # not even one filter
    assert largest_fitting(config, 'filters', 100, memory, side=64) < filters  # larger images, fewer filters


def test_available_memory_on_the_cpu_is_some_of_the_machine():
    free = available_memory(torch.device('cpu'))
    assert 0 < free < 1 << 50


def test_sizes_past_what_torch_can_count_are_more_than_any_memory():
    assert training_bytes(ModelConfig('UNet', filters=99_999_999_999), 100) > 2 ** 62


def test_a_dilated_convolution_counts_its_spread_out_filter():
    near, far = (training_bytes(ModelConfig('DUNet', filters=4, dilation=d), 10) for d in (1, 100_000))
    assert far - near > 8 * 4 * 4 * 200_003 ** 2  # the middle filter (>= 4 channels in and out) over 200,003 pixels
