python colorization.py --model UNet --recipe fast --lr-schedule constant --experiment-name exp_recipes_fast_constant_lr --overwrite
