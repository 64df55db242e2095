python colorization.py --model UNet --recipe assignment --experiment-name exp_recipes_assignment --overwrite
